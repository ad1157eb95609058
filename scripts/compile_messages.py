"""Compile every .po under src/shijian/locale into .mo with polib (no system gettext needed)."""

from pathlib import Path

import polib

root = Path(__file__).resolve().parent.parent / "src" / "shijian" / "locale"
for po_path in sorted(root.glob("*/LC_MESSAGES/*.po")):
    po = polib.pofile(str(po_path))
    po.save_as_mofile(str(po_path.with_suffix(".mo")))
    done, missing = len(po.translated_entries()), len(po.untranslated_entries())
    print(f"{po_path.relative_to(root)}: {done} translated, {missing} untranslated")
