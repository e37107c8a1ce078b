from sqsidem.cli.entry import main

main()
