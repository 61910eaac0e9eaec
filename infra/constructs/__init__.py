"""Noun-named constructs, one AWS concern each; stacks compose them."""
