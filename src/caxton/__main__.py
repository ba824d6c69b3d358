from caxton.cli import main

main()
