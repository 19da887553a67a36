"""Post-contact surveys and the voice of the customer (issue #15, the surveys part).

``statistics`` turns the ``survey_answered`` events of the contact event log — the IVR's DTMF
answer, web chat's end-of-chat rating, the public survey page's answers — into CSAT, DSAT,
NPS and resolution figures with confidence intervals, response rates per channel and the
importance–performance matrix; ``answers`` checks a page's answers against the survey's
questions (both pure). ``service`` sends signed, single-use survey links and records what
comes back in the event log.
"""
