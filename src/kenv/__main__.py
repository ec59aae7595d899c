from kenv.cli.main import main

main()
