"""HTTP routers: citizen API, staff API, health."""
