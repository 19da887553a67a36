"""Web chat: a customer on a company's web site talking with an agent in writing.

``conversation`` holds the pure rules (phases, per-conversation sequence numbers, resuming
after a dropped connection, what each side may send), ``attachments`` what a file must be to
be accepted, ``limits`` the rate limits, ``tokens`` the conversation's signed token, and
``service`` keeps conversations, messages, attachments and survey answers in the database.
"""
