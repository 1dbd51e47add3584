"""A handbook checked out on disk, for the command line: its pages and table of contents, its
rapid.yml, its git history, and the formats findings on it are printed in."""
