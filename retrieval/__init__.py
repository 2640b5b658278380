"""Retrieval: jieba tokenizer, encoders, BM25 + FAISS hybrid index, fusion, abstention, answers."""
