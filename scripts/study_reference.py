"""Rewrite docs/study-file.md and geo_pcn/schema/study.schema.json from the study-file
grammar (geo_pcn.studyfile_keys.KEY_DOCS); tests/test_study_reference.py fails until this is run
after a key changes."""

from geo_pcn.cli.reference import write_reference

if __name__ == "__main__":
    for path in write_reference():
        print(f"wrote {path}")
