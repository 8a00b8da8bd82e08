"""Development tools for the synthetic demo region (not part of the geo_pcn wheel).

* :mod:`demo_gen.design` — the hand-made design: PCNs, practices, places, teams;
* :mod:`demo_gen.geometry` — outline, river and small areas;
* :mod:`demo_gen.generate` — builds, verifies and writes ``boundaries/demo/`` and
  ``boundaries/manifest.json``;
* :mod:`demo_gen.rules` — an independent checker of the planning rules, written from the
  README and DESIGN.md without importing geo_pcn, that the generator and the tests run on
  the written files.

``scripts/make_demo.py`` runs it (``scripts/`` is on ``sys.path`` when a script there is
run; the tests put it there in ``tests/datasets/conftest.py``). The wheel ships only the
generated files and the loader, :mod:`geo_pcn.datasets`.
"""
