# The paddock binary's commands and configuration errors.
pd_add_py_test(cli_paddock SCRIPT tests/net/test_cli.py LABELS net TIMEOUT 120)
