"""The file to hand ``spark-submit``: ``spark-submit [options] submit.py check|match ...``.

spark-submit runs a Python file, not a console script, so this file runs
``edi-rehab spark ARGS`` with the master and settings spark-submit gave. Print its path with
``python -m edi_rehab.spark.submit --path``.
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:] == ["--path"]:
        print(__file__)
        sys.exit(0)
    from edi_rehab.cli import main

    main(["spark", *sys.argv[1:]], prog_name="edi-rehab spark")
