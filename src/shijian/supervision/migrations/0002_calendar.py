"""Load the shipped public holidays and make-up working days (data/holidays_cn.csv)."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from shijian.supervision.calendar import read_exceptions

    CalendarDay = apps.get_model("supervision", "CalendarDay")
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, workday=w, note=n) for d, (w, n) in sorted(read_exceptions().items())],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
