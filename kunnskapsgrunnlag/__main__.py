"""`python -m kunnskapsgrunnlag`: the same entry point as the installed `kunnskapsgrunnlag` command."""

from .cli import main

if __name__ == "__main__":
    main()
