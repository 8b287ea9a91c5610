"""People who use Panels: the user model (email is the login) and its admin."""
