"""Run as a script by test_jobs_worker: a fresh database with ``n`` entities and one queued entity export."""

from __future__ import annotations

import os
import sys

import django


def main(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shijian.config.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from shijian.accounts.models import User
    from shijian.core.request_context import acting_as
    from shijian.jobs.runner import enqueue
    from shijian.registry.models import Entity

    rows = [
        Entity(
            uscc=None,
            reg_no=f"R{i:08d}",
            name=f"测试企业{i}",
            entity_type="llc",
            industry_code="6210",
            industry_section="H",
            region_code="440608004001",
            town_code="440608004",
            district_code="440608",
            address="人民路1号",
            legal_rep="张三丰",
            status="active",
            source="test",
        )
        for i in range(n)
    ]
    with acting_as(None):
        Entity.objects.bulk_create(rows, batch_size=5000)
        admin = User.objects.create_user("admin", password="x-long-password-1", role="data_admin", region_code="440608")
        job = enqueue("export", {"spec": "entity", "query": {}}, admin)
    print(job.pk)


if __name__ == "__main__":
    main(int(sys.argv[1]))
