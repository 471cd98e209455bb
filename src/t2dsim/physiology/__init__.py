"""Physiology models: minute-scale meal model, C-peptide kinetics, sensors, years-scale progression."""
