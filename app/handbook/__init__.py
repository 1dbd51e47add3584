"""A repository's handbook on its default branch: the snapshot the dashboard shows, the last
merge of each plan, and what stands between the repository and a working RAPID review."""
