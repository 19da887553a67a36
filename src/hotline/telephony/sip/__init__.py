"""SIP: sippy B2BUA, registrar with digest authentication."""
