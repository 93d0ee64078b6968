"""What the staff rooms share: the view bases (base, listing), the POST shape (posting), actions as staff do them
(staff_actions), query-string helpers (common), cell formatters and the summary banner."""
