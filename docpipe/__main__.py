"""`python -m docpipe` is the `docpipe` command."""

from docpipe.cli.app import main

if __name__ == "__main__":
    main()
