"""The edge and the process: HTTP (the app, access rules, the contract, problems, idempotency, input
checks, revisions, throttling, uploads, controllers) and running it (settings, database wiring, logging,
metrics, the ``deskline`` command, migrations, the OpenAPI export). Nothing below imports it; the
development stand-ins read ``api.settings`` only. See docs/architecture.md."""
