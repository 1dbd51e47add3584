"""One pull request against GitHub: what is read to judge it, its evaluation, its check runs,
its merge record and merge queue checks, and the timeline of what happened to it."""
