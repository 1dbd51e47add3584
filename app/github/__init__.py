"""The one seam to GitHub: the App's authentication, the client every handler gets, its
conditional-request cache and retry rules, and files read through the contents API."""
