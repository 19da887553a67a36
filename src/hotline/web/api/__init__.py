"""API routers, one module per capability; each route declares its roles."""
