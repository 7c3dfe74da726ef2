#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fills the app's .ts files from a table {source: (zh_CN, ja, ru)} (a Python file defining T).

Usage: fill_translations.py TABLE.py   — run after `ninja update_translations`; messages not in
the table are left as they are (other pages keep their own translations)."""
import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

LANGS = {"zh_CN": 0, "ja": 1, "ru": 2}

def main():
    table = runpy.run_path(sys.argv[1])["T"]
    here = Path(__file__).resolve().parent
    for lang, col in LANGS.items():
        path = here / f"mmfree_studio_{lang}.ts"
        tree = ET.parse(path)
        filled = 0
        for msg in tree.getroot().iter("message"):
            src = msg.find("source").text
            if src in table:
                tr = msg.find("translation")
                tr.text = table[src][col]
                tr.attrib.pop("type", None)
                filled += 1
        tree.write(path, encoding="utf-8", xml_declaration=True)
        with open(path, "r+", encoding="utf-8") as f:   # lupdate's header, so diffs stay small
            text = f.read().replace("<?xml version='1.0' encoding='utf-8'?>", '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>', 1)
            f.seek(0); f.write(text); f.truncate()
        print(f"{path.name}: {filled} messages filled")

if __name__ == "__main__":
    main()
