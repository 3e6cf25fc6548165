param W1 = randn(32, 16, seed=1)
param b1 = randn(32, seed=2)
param W2 = randn(10, 32, seed=3)
param b2 = randn(10, seed=4)
data x = randn(16, seed=5)
data y = randn(10, seed=6)
h = sigmoid(W1 @ x + b1)
o = W2 @ h + b2
J = mse(o, y)
