"""Parsers for what citizens type into the complaint and report forms.

They are plain functions with no Rasa dependency, so the form validation
actions stay thin and every phrasing can be unit-tested on its own.
"""
