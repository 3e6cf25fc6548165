# A two-layer MLP with GELU, as in a transformer's feed-forward block, and a log-softmax loss
# (the negative log-likelihood of the target distribution y):
#   dJ/do = softmax(o) - y   (log_softmax's VJP, y summing to 1),
#   dJ/dh = W2^T (dJ/do),    dJ/dz = dJ/dh (.) gelu'(z),  gelu'(z) = Phi(z) + z phi(z),
#   dJ/dW1 = (dJ/dz) x^T,    dJ/db1 = dJ/dz
param W1 = [[0.5, -0.25, 1], [-1, 0.75, 0.5], [0.25, 0.5, -0.5], [1, -1, 0.25]]
param b1 = [0.1, -0.2, 0, 0.3]
param W2 = [[1, -0.5, 0.25, 0.5], [-0.75, 1, 0.5, -0.25]]
data  x = [1, 2, -1]
data  y = [0, 1]
z = W1 @ x + b1
h = gelu(z)
o = W2 @ h
q = log_softmax(o)
L = -sum(y * q)
