"""The website chat widget: static assets, the demo page and the server for both."""
