"""Experiments that chain the whole loop (collect, judge, build, train, evaluate) into a report."""
