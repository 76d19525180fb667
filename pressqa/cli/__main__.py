from pressqa.cli import main

main()
