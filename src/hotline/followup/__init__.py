"""Follow-up work (回访): verification calls after repairs, installations and complaints."""
