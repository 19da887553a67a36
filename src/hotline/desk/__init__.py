"""The agent's desk: what the desktop and the service desk compose from several domains.

Domains are independent of each other; a view that needs two of them (the screen pop shows a
caller's customer record *and* their open tickets; a customer merge moves CRM's rows *and* the
tickets) is put together here, one layer above both, through each domain's service module.
"""
