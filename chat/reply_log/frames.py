"""What every reply log shares: the frame that ends a log, and how long a finished log is kept."""

DONE = "message.done"
RETAIN_SECONDS = 3600  # a finished reply's log stays this long for late followers, then HTTP has it
