import torch
from torch import nn

# nn.Linear(2, 1) with its weights set, so that the run is the same every time
x = torch.tensor([[1., 2.], [3., 4.]])
y = torch.tensor([[3.], [7.]])

model = nn.Linear(2, 1)
model.weight.data = torch.tensor([[0.5, 0.5]])
model.bias.data = torch.tensor([0.0])
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(3):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    print(epoch, loss.item(), model.weight.grad.tolist(), model.bias.grad.tolist())
print(model.weight.tolist(), model.bias.tolist())
