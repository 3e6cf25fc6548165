# A single linear layer with binary cross-entropy on logits (the MindSpore autodiff tutorial):
# z = x W + b with x = ones(5), y = zeros(3), W of 5x3 and b of 3. The loss is the mean over
# the 3 outputs, so each column of W gets the gradient x (sigma(z_j) - y_j)/3, and b gets (sigma(z) - y)/3.
param W = randn(5, 3, seed=0)
param b = randn(3, seed=1)
data  x = ones(5)
data  y = zeros(3)
z = x @ W + b
loss = bce_with_logits(z, y)
