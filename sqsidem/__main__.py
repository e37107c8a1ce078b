from sqsidem.cli.app import main

main()
