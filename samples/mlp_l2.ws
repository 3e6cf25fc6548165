# One hidden layer without bias, with L2 regularisation (d2l section 3.14, "Forward propagation,
# backward propagation and computational graphs"): 3 inputs, 4 hidden units, 2 classes.
#   dJ/dW2 = (dJ/do) h^T + lambda W2,   dJ/dh = W2^T (dJ/do),
#   dJ/dz  = dJ/dh (.) relu'(z),        dJ/dW1 = (dJ/dz) x^T + lambda W1
param W1 = randn(4, 3, seed=1)
param W2 = randn(2, 4, seed=2)
data  x = [1, 2, -1]
data  y = 1                    # the class index, counted from 0
data  lambda = 0.1
z = W1 @ x
h = relu(z)
o = W2 @ h
L = cross_entropy(o, y)
s = lambda/2 * (sumsq(W1) + sumsq(W2))
J = L + s
