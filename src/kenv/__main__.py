from kenv.cli.entry import main

main()
