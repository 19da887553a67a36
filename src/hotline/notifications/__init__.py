"""In-app notifications: the service that sends them and the inbox that reads them."""
