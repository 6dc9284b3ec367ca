"""Part IV: text cleaning, vocabulary, the IMDB splits and the Transformer classifier."""
