"""E-mail: customers' mail threads into tickets, agents' replies go out by SMTP.

Pure rules (no I/O): ``messages`` (parsing, malformed-MIME detection), ``threads`` (which
ticket a message belongs to), ``headers`` (outgoing messages and their threading headers,
RFC 3834 loop safety), ``bounces`` (delivery status notifications, RFC 3464), ``limits``.
Adapters: ``service`` (the tables), ``receiver`` (SMTP, aiosmtpd), ``poller`` (IMAP),
``sender`` (the outbox, SMTP), ``credentials`` (mailbox secrets encrypted at rest).
"""
