"""Tests of the programs that run on fleet instances."""
