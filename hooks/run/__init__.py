"""Running stacker for a promotion: one deploy (`deploy`: check, start the stacker child, recover
after a failed stack), the child itself (`stacker_child`), `recovery`, and many at once (`fleet`)."""
