"""mcmc"""
