"""Human review: a sampling policy (``review.yaml``), a queue of items made from the audit
record (gateway calls and ``/v1/ask`` answers), reviewers' labels, and labels exported as golden
eval cases (docs/review.md)."""
