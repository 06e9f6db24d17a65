"""The shared kernel: what every part uses and that knows no part. Its modules are its surface, each
small and about one thing: errors, time (injected clocks), ids, money, text, nesting, pagination,
business time and holiday calendars, encryption, storage, safe outgoing URLs, counters, idempotency
keys, transactions, response views, column helpers, and the outbox's ``emit``. See docs/architecture.md."""
