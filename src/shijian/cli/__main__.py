"""``python -m shijian.cli``."""

from shijian.cli import main

main()
