"""Build of the optional native extension (the ingest fast path); everything else is in pyproject.toml.

Without a C compiler the build skips it (optional=True) and ingest uses the SQL reference path alone.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "shijian.ingest._fastcsv",
            ["src/shijian/ingest/_fastcsv.c"],
            extra_compile_args=["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
