"""Ticket providers arrive here; until then a customer has no open tickets."""
