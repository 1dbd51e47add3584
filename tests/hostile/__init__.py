"""Attacks from people who can open a pull request or send a request, each sent through the
real `rapidvet serve` process and the OpenAPI-checked fake GitHub (issue: hostile pull requests).
Each module holds the tests of one defence; each test fails when its defence is reverted."""
