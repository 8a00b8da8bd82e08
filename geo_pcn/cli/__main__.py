"""``python -m geo_pcn.cli``: the same as the ``geo-pcn`` command."""

from geo_pcn.cli import main

main()
