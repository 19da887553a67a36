"""Quality management: evaluation scoring, QA sampling, accuracy with its margin of error."""
